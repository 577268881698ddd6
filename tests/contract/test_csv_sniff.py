"""What the first bytes of a file say about it, before any row is read."""

from contract import csv_sniff


def test_header_problem_only_speaks_when_commas_miss_the_columns():
    names = ["age", "plan"]
    assert csv_sniff.header_problem(b"age;plan\n1;a\n", names).startswith("the file is semicolon")
    assert csv_sniff.header_problem(b"age,plan\n1,a\n", names) is None
    assert csv_sniff.header_problem(b"age,plan;x\n1,a;b\n", names) is None
    assert csv_sniff.header_problem(b"", names) is None
