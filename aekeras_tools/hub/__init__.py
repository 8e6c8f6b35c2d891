"""A demo class on JupyterHub: an instructor and N students as Unix users, with nbgrader's exchange.

Usage (as root, from the repository root, after `python3 tasks.py setup`):

    python3 tasks.py hub                                   # 2 students on http://127.0.0.1:8000
    python3 tasks.py hub -- --students 5 --port 8001       # arguments after `--` go to this module
    python -m aekeras_tools.hub --remove                   # delete the class's accounts and folder

It prepares a class, starts JupyterHub, prints the address and the logins, and runs until Ctrl-C,
which stops the hub, its proxy and every server and kernel of the class's users. Run it again and
it reuses the accounts (and their passwords), the environment and the exchange.

What it makes (the folder is `--dir`, default /srv/aekeras-hub, or AEKERAS_HUB_DIR):

- **Accounts**: `<prefix>instructor` and `<prefix>student1..N` (prefix `ae-`), Unix users with a
  home of mode 0700 and a random password (kept in `<dir>/state/logins.json`, root only), and the
  group `<prefix>graders` of the instructor. It changes no account it did not make (their comment
  field says so). The instructor gets a copy of the repository in `~/aekeras` (never overwritten),
  whose `course/assignments/` is the nbgrader course directory the formgrader opens.
- **The users' environment** (`<dir>/env`): the Python of the project's environment lives where
  other users cannot run it (pyenv under /root, mode 0700), and the hub must not open that folder.
  So the command makes a virtual environment from a Python of the same version that every user can
  run (Debian's /usr/bin/python3.11 here; `--python` to choose) and fills it with the project
  environment's packages as hard links (seconds, no download, and exactly the packages the tests
  ran), with a copy of aekeras and the course kernel. Every user's server, kernel and `nbgrader`
  run from it; `AEKERAS_VENV` points at it, so the instructor's `python3 tasks.py grade` uses it.
  When no such Python exists, the command refuses and says what to install.
- **The exchange** (`<dir>/exchange`), made and repaired by root on each start, with the hardened
  exchange classes of `aekeras_tools.hub.exchange` (the threat model is in its docstring).
- **JupyterHub** (`<dir>/etc/jupyterhub_config.py`, state and log under `<dir>/state`, `<dir>/logs`).

The choices:

- **Authenticator: PAM** (JupyterHub's default, `PAMAuthenticator`), against the Unix accounts
  the command makes. The accounts must exist anyway (the exchange's permissions are Unix owners and
  groups), so PAM adds no second user database; it ships and is maintained with JupyterHub itself.
  FirstUseAuthenticator (TLJH's default) and NativeAuthenticator keep passwords of their own and let
  whoever types a name first claim it (or sign up): a class whose accounts exist does not need
  that. The command sets each account's password and prints it.
- **Spawner: LocalProcessSpawner** (JupyterHub's default): each user's server runs as that Unix
  user (the hub, root, switches uid), so the kernel, the files and `nbgrader submit` are the user's
  own and the file system's permissions hold. SudoSpawner would let a hub that is not root do the
  same through sudo; SystemdSpawner (TLJH) needs systemd, which containers and CI lack.
- **Proxy: configurable-http-proxy** (npm), JupyterHub's default proxy.

Modules, named by what they hold
--------------------------------

- `classroom`: `Classroom` (the class's account names and folders, and how to act as one of its
  users), `HubError`, and the names every module shares (default folder and prefix, course id);
- `checks`: the checks of bad input (root, the proxy, the port, a folder every user can enter, a
  Python every user can run);
- `environment`: the users' environment (the project's packages as hard links, aekeras, the course
  kernel, the global `nbgrader_config.py`);
- `accounts`: the Unix accounts, their group, passwords and Jupyter settings, the instructor's copy
  of the repository, and the exchange's folders with their owners and modes;
- `exchange`: the hardened nbgrader exchange classes (copied into the users' environment as
  `aekeras_hub_exchange`; standard library and nbgrader only);
- `server`: JupyterHub's configuration, starting it, the banner, and stopping the class;
- `cli`: the command line (`prepare`, `remove`, `main`); `__main__` runs it.
"""
