"""Files that describe the course agree with the course."""

from conftest import ASSIGNMENTS, COURSE


def test_readme_table_of_contents_links_every_notebook():
    readme = (COURSE.root / "README.md").read_text()
    missing = [a for a in ASSIGNMENTS if f"(notebooks/{a}/{a}.ipynb)" not in readme]
    assert not missing, f"README's contents table lacks {missing}"


def test_conda_environment_installs_requirements_txt():
    pip_lines = [line.strip() for line in (COURSE.root / "environment.yml").read_text().splitlines()
                 if line.strip().startswith("- -r ")]
    assert pip_lines == ["- -r requirements.txt"]

