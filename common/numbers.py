"""How the commands print numbers of their own (the authors' printouts keep their own format, byte for byte)."""


def fixed(value: float, digits: int) -> str:
    """`value` with `digits` decimals, a value that rounds to zero without a minus sign ("0.000", not "-0.000")."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def plural(count: int, word: str) -> str:
    """"1 shot", "2 shots", "0 shots"."""
    return f"{count} {word}{'' if count == 1 else 's'}"
