"""make test's work units (tests/work_units.py): a file is one unit, unless it is cut by assignment."""

from work_units import start_rank, work_unit


def test_a_file_is_one_unit():
    assert work_unit("tests/test_autograde.py::test_autograde_scores_exactly_what_was_earned[01_chain_rule]") == \
        work_unit("tests/test_autograde.py::test_hard_coded_visible_answer_loses_the_hidden_tests") == \
        "tests/test_autograde.py"
    assert work_unit("solutions/01_chain_rule/01_chain_rule.ipynb::Cell 3") == \
        "solutions/01_chain_rule/01_chain_rule.ipynb"


def test_a_corpus_and_its_reference_answers_are_one_unit_per_assignment():
    units = {work_unit("tests/test_misconceptions.py::test_reference_answers_earn_full_marks_without_findings"
                       "[02_perceptron_backprop]"),
             work_unit("tests/test_misconceptions.py::test_case_scores_as_it_should_with_its_hint"
                       "[02_perceptron_backprop-ex1-sign]")}
    assert units == {"tests/test_misconceptions.py[02_perceptron_backprop]"}
    assert work_unit("tests/test_misconceptions.py::test_case_scores_as_it_should_with_its_hint[03_partial_derivatives"
                     "-ex1-sign]") == "tests/test_misconceptions.py[03_partial_derivatives]"


def test_tests_of_a_cut_file_that_name_no_assignment_stay_in_the_files_unit():
    assert work_unit("tests/test_cpu_paths.py::test_torch_takes_the_simulated_path[avx2]") == "tests/test_cpu_paths.py"
    assert work_unit("tests/test_cpu_paths.py::test_solution_replays_on_another_cpu_path[14_low_precision_gradients"
                     "-avx2]") == "tests/test_cpu_paths.py[14_low_precision_gradients]"


def test_the_longest_files_come_first_and_every_file_keeps_its_order():
    collected = ["solutions/01_chain_rule/01_chain_rule.ipynb::Cell 0", "solutions/01_chain_rule/01_chain_rule.ipynb::Cell 1",
                 "tests/test_anatomy.py::test_a", "tests/test_misconceptions.py::test_b[01_chain_rule]",
                 "tests/test_parallel_grading.py::test_c", "tests/test_parallel_grading.py::test_d"]
    assert sorted(collected, key=start_rank) == [collected[4], collected[5], collected[3], *collected[:3]]
