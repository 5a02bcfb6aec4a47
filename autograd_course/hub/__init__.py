"""The course on a JupyterHub (``make hub``): Unix accounts, a private nbgrader exchange, trusted grading from formgrader.

``layout`` says where everything lives and who is who; ``accounts`` makes the Unix accounts and their nbgrader and
JupyterLab configuration; ``exchange`` is nbgrader's exchange with submissions and feedback private to each student;
``trusted`` routes nbgrader's autograde (formgrader's button, the command, the API) through the sandboxed grader;
``jupyterhub_config.py`` is the hub's own configuration; ``__main__`` starts and stops the whole class.
"""
