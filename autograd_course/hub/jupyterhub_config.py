"""JupyterHub's configuration for the course (``make hub`` runs ``jupyterhub -f`` this file).

Everything that varies (ports, state folder, account names) comes from the layout make hub wrote to the state
folder named by AUTOGRAD_HUB_STATE; nothing here is edited per machine.
"""

import grp
import os
from pathlib import Path

from autograd_course.hub.layout import HubLayout

c = get_config()  # noqa: F821 - injected by JupyterHub
layout = HubLayout.load(Path(os.environ["AUTOGRAD_HUB_STATE"]))
bin_dir = layout.venv / "bin"

c.JupyterHub.ip = layout.ip
c.JupyterHub.port = layout.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = layout.hub_api_port
# The proxy: configurable-http-proxy's Python implementation, a pip package pinned with the rest of the course,
# so the hub needs no Node.js at run time; JupyterHub drives it through the same REST API as the npm one.
# Formgrader's Autograde button waits for the sandboxed grader: requests may take minutes (its default is 20 s).
c.ConfigurableHTTPProxy.command = [str(bin_dir / "configurable-http-proxy"), "--timeout=900000",
                                   "--proxy-timeout=900000"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{layout.proxy_api_port}"
c.ConfigurableHTTPProxy.should_start = True

# State: the database and the cookie secret, in the state folder (root's, 0700), never in the repository.
c.JupyterHub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(layout.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(layout.state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # make hub-stop ends every user's server too

# Who: system accounts, logging in with their Unix password (PAM). Only the class may log in: the members of its
# two Unix groups, so a student added to the students' group later (README: from a CSV) can log in too.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {layout.instructors_group, layout.students_group}
c.PAMAuthenticator.open_sessions = False  # no login session (utmp, systemd) for a web login
# The graders' hub group, which the formgrader service's role names: the Unix group's members at start (so a grader
# added to it later gets the service after a restart).
graders = sorted({*layout.grader_names, *grp.getgrnam(layout.instructors_group).gr_mem})
c.JupyterHub.load_groups = {layout.instructors_group: {"users": graders},
                            layout.students_group: {"users": layout.student_names}}

# Each user's JupyterLab runs as their own Unix account, in their home, with the course's Python.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                         "PYTHONDONTWRITEBYTECODE": "1"}
# The course's formgrader, one for all graders (nbgrader's demo "one class, multiple graders"): a hub service named
# after the course, a JupyterLab run as the grading account in its home, where the course folder is. The graders'
# group may reach it; the graders' own servers may list it (nbgrader's course list links to it).
c.JupyterHub.services = [{
    "name": layout.service_name,
    "url": f"http://127.0.0.1:{layout.service_port}",
    "user": layout.grading_account,
    "cwd": str(HubLayout.home(layout.grading_account)),
    # umask 007: the graders (the files group) write in the course folder what the service made, and back.
    "command": ["/bin/sh", "-c", f"umask 007 && exec {bin_dir / 'jupyterhub-singleuser'}"],
    "environment": {"JUPYTERHUB_DEFAULT_URL": "/lab", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"},
    "oauth_no_confirm": True,  # the course's own service: no "authorize access" page before a grader's first visit
}]
c.JupyterHub.load_roles = [
    {"name": layout.instructors_group, "groups": [layout.instructors_group],
     "scopes": [f"access:services!service={layout.service_name}", "list:services",
                f"read:services!service={layout.service_name}"]},
    {"name": "server", "scopes": ["inherit"]},
]

c.Spawner.start_timeout = 180  # a shared machine: JupyterLab plus torch can take a while
c.Spawner.http_timeout = 180
