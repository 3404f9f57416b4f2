"""verify/tasks.py: a task is a function of this package called by name from plain data."""
import pytest

from verify.tasks import CallTask, execute, task_function


def test_a_call_task_runs_the_function_it_names():
    task = CallTask("probe", "verify.seeds:parse_seeds", {"x": 1})
    assert task.spec() == {"function": "verify.seeds:parse_seeds", "x": 1}
    assert task_function("verify.seeds:parse_seeds").__name__ == "parse_seeds"


@pytest.mark.parametrize("name", ["os:system", "builtins:eval", "verify.seeds", "subprocess:run"])
def test_only_this_package_functions_are_task_functions(name):
    with pytest.raises(ValueError, match="not a task function"):
        execute({"function": name})
