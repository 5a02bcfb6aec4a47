"""nbgrader configuration for the course; every path is relative to this folder."""

from autograd_course.validate import configure_validation

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.course_id = "autograd-course"
# source/ holds the instructor notebooks; generate_assignment writes the student versions
# to notebooks/, which is committed so that students can open it straight from the repository.
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 120

# Feedback shows that a hidden test failed and its message, never the hidden test's source.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograd_course.grading.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Validation (make validate, JupyterLab's Validate button): kernels on local IPC sockets in a private folder
# (autograd_course.kernels), and while nbgrader validates a notebook its test cells fail with the grader's
# answer-policy findings.
configure_validation(c)
