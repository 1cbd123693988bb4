"""The training code on every device (tests/conftest.py `device`: the CPU, CUDA where present, and `meta` standing in
for a GPU on a machine without one): the resume state, the all-reduce, the one wait per epoch, the fork before CUDA,
the process group's backends and the float32 policy of every torch command."""
import pytest
import torch

from model import distributed
from model import main as train_main
from model.configs import get_config
from model.data_loader import VideoData
from model.device import numerics
from model.distributed import Group
from model.solver import Solver
from model.stream_solver import StreamSolver
from model.trainer import Trainer
from tests.golden_inputs import GOLDEN
from tests.helpers import run_main

# loading a CPU state_dict into a model on `meta` copies nothing, which is all these tests ask of it
pytestmark = pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter:UserWarning")

ARGS = [f"--dataset_file={GOLDEN / 'train0_summe.h5'}", f"--splits_file={GOLDEN / 'train0_summe_splits.json'}",
        "--input_size=64", "--batch_size=3", "--device=cpu", "--workers=0"]


def config_on(device, tmp_path, *extra):
    """The configuration of a tiny SumMe run, computing on `device`."""
    config = get_config([*ARGS, f"--exp_dir={tmp_path / 'exp'}", *extra])
    config.device = device
    return config


def videos(config):
    return [VideoData(config.dataset_file, config.split[k], config.input_size) for k in ("train_keys", "test_keys")]


def test_resume_state_is_restored_onto_the_training_device(device, tmp_path):
    """resume.pt is read on the CPU: the generator states stay the CPU byte tensors torch's setters take, and the
    weights and moments reach the device through load_state_dict (loaded onto the device, they were rejected as
    "not a resume file of this run")."""
    config = config_on(torch.device("cpu"), tmp_path)
    saved = Solver(config, *videos(config))
    saved.train_epoch(0)
    rng = torch.get_rng_state()
    saved.trainer.resume_state.save_task(0, 0.25, 0)()
    torch.manual_seed(1)

    trainer = Trainer(config_on(device, tmp_path))
    assert trainer.resume_state.load() == (0, 0.25, 0, {})
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(p.device == device for p in trainer.model.parameters())
    moments = [m for state in trainer.optimizer.state.values() for name, m in state.items() if name != "step"]
    assert moments and all(m.device == device for m in moments)
    if device.type != "meta":
        for mine, theirs in zip(trainer.model.parameters(), saved.model.parameters()):
            assert torch.equal(mine.cpu(), theirs)


def test_in_memory_epoch_waits_for_the_device_once(device, tmp_path):
    """Solver.train_epoch returns its mean loss on the device: the host reads it once per epoch (the Trainer), not
    per video (`meta` cannot be read at all: any per-video .item() fails there)."""
    config = config_on(device, tmp_path)
    loss = Solver(config, *videos(config)).train_epoch(0)
    assert loss.device == device and loss.shape == ()
    if device.type != "meta":
        assert 0 < float(loss) < 1


def test_streamed_epoch_reduces_on_the_training_device(device, tmp_path, monkeypatch):
    """Every tensor StreamSolver all-reduces lives on the training device, as NCCL requires, and the epoch's loss
    comes back without a wait per video."""
    reduced = []

    def nccl_like(tensor, op=None, group=None, async_op=False):
        assert tensor.device == device, f"all_reduce of a tensor on {tensor.device}, training on {device}"
        reduced.append(tensor.numel())

    monkeypatch.setattr(torch.distributed, "all_reduce", nccl_like)
    monkeypatch.setattr(distributed, "joined", lambda: True)  # as if torchrun's group were joined
    config = config_on(device, tmp_path)
    solver = StreamSolver(config, Group(rank=0, world=2))
    loss = solver.train_epoch(0)
    n_batches = len(config.split["train_keys"]) // config.batch_size
    assert loss.device == device and len(reduced) == n_batches + 1 and reduced[-1] == 2
    if device.type != "meta":
        assert 0 < float(loss) < 1


def test_readers_fork_before_the_first_cuda_call(tmp_path, monkeypatch):
    """The reader processes are forked before the device is bound or the model moved to it (`meta` standing in
    for CUDA), and torchrun's local setup reads the environment without touching CUDA."""
    from model import streaming
    events = []
    fork, move = streaming.Reader.__init__, torch.nn.Module.to

    def forked(self, *args, **kwargs):
        events.append("fork")
        fork(self, *args, **kwargs)

    def moved(self, *args, **kwargs):
        if any(isinstance(a, torch.device) and a.type != "cpu" for a in (*args, *kwargs.values())):
            events.append("device")
        return move(self, *args, **kwargs)

    monkeypatch.setattr(streaming.Reader, "__init__", forked)
    monkeypatch.setattr(torch.nn.Module, "to", moved)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: events.append("set_device"))
    StreamSolver(config_on(torch.device("meta"), tmp_path, "--workers=1"))
    assert events[:2] == ["fork", "fork"] and "device" in events[2:]

    events.clear()
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.local(torch.device("cuda")) == (Group(1, 2), torch.device("cuda", 1))
    assert events == []
    distributed.bind(torch.device("cuda", 1))
    assert events == ["set_device"]


def test_the_process_group_carries_gpu_and_host_tensors(monkeypatch):
    """Under torchrun (one process included) on CUDA the group is NCCL for the GPU tensors and gloo for the host ones
    (gathered results, the barrier); on the CPU, gloo; a plain run joins none."""
    backends = []
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend: backends.append(backend))
    monkeypatch.delenv("RANK", raising=False)
    distributed.connect(torch.device("cuda", 0))
    assert backends == []
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    distributed.connect(torch.device("cuda", 0))
    distributed.connect(torch.device("cpu"))
    assert backends == ["cpu:gloo,cuda:nccl", "gloo"]


def precision() -> tuple[str, str]:
    return torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision


def test_numerics_hold_full_float32_unless_tf32_is_asked_and_set_everything_back():
    before, deterministic = precision(), torch.are_deterministic_algorithms_enabled()
    with numerics(torch.device("cpu")):
        assert precision() == ("ieee", "ieee") and torch.are_deterministic_algorithms_enabled() == deterministic
    with numerics(torch.device("cuda", 0), tf32=True):
        assert precision() == ("tf32", "tf32") and torch.are_deterministic_algorithms_enabled()
    assert precision() == before and torch.are_deterministic_algorithms_enabled() == deterministic


@pytest.mark.parametrize("tf32", [False, True])
def test_training_runs_under_the_float32_policy(tmp_path, monkeypatch, tf32):
    seen, before = [], precision()
    monkeypatch.setattr(Trainer, "run", lambda self, source, resume=False: seen.append(precision()))
    done = run_main(train_main.main, *ARGS, "--exp_dir", tmp_path, *(["--tf32"] if tf32 else []))
    assert done.returncode == 0, done.stderr
    assert seen == [("tf32", "tf32") if tf32 else ("ieee", "ieee")] and precision() == before
