"""JupyterHub: its configuration, starting it, the banner with the logins, stopping the class."""

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from aekeras_tools.hub.checks import PROXY
from aekeras_tools.hub.classroom import HubError

# The last line the command prints once the hub is up.
STOP_LINE = "Ctrl-C stops the hub, its proxy and every server of the class."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_config(room, ip, port, proxy):
    """The hub's configuration file (the settings that matter for TLJH and Z2JH are in README)."""
    settings = {
        "bind_url": f"http://{ip}:{port}",
        "hub_port": free_port(),
        "proxy_api_url": f"http://127.0.0.1:{free_port()}",
        "proxy": proxy,
        "state": str(room.state),
        "users": room.users,
        "singleuser": str(room.env / "bin" / "jupyterhub-singleuser"),
        "environment": {
            k: v
            for k, v in room.user_env(room.instructor).items()
            if k not in ("HOME", "USER", "LOGNAME", "SHELL")
        },
    }
    return f'''"""JupyterHub of the aekeras demo class (written by aekeras_tools.hub; rewritten on each start)."""

settings = {json.dumps(settings, indent=1)}
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = settings["bind_url"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = settings["proxy_api_url"]
c.JupyterHub.db_url = "sqlite:///" + settings["state"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = settings["state"] + "/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = settings["state"] + "/jupyterhub.pid"
# Unix accounts and their passwords, through PAM; only the class's accounts may log in.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no systemd-logind in containers
c.Authenticator.allowed_users = set(settings["users"])
# Each user's server runs as that Unix user, from the users' environment, in JupyterLab.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["singleuser"]]
c.Spawner.environment = settings["environment"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server
'''


def wait_until_up(process, url, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def class_processes(room):
    """pids of processes that run as one of the class's users."""
    uids = set()
    for user in room.users:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(user).pw_uid)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
    return found


def proxy_pid(room):
    with contextlib.suppress(OSError, ValueError):
        pid = int((room.state / "jupyterhub-proxy.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if PROXY.encode() in cmdline:
            return pid
    return None


def stop(room, hub, log=print):
    """Stops the hub (which stops its proxy and the users' servers), then anything left."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait()
    leftovers = class_processes(room)
    proxy = proxy_pid(room)
    for pid in leftovers + ([proxy] if proxy else []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    time.sleep(1 if leftovers or proxy else 0)
    for pid in class_processes(room) + ([proxy] if proxy_pid(room) else []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log(
        "Stopped the hub"
        + (f"; ended {len(leftovers)} leftover process(es) of the class" if leftovers else "")
        + ("; ended the proxy" if proxy else ""),
    )


def serve(room, ip, port, proxy, logins):
    """Starts JupyterHub, prints how to log in, and waits for Ctrl-C (or SIGTERM)."""
    for folder in (room.etc, room.logs):
        folder.mkdir(parents=True, exist_ok=True)
    config = room.etc / "jupyterhub_config.py"
    config.write_text(hub_config(room, ip, port, proxy))
    log_path = room.logs / "jupyterhub.log"
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    env = dict(os.environ, PATH=f"{Path(proxy).parent}:{room.env / 'bin'}:{os.environ['PATH']}")
    with open(log_path, "a") as log:
        hub = subprocess.Popen(
            [str(room.python), "-m", "jupyterhub", "-f", str(config)],
            cwd=room.state,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches this process, which stops the hub in order
        )
    try:
        local = "127.0.0.1" if ip in ("0.0.0.0", "") else ip
        address = f"http://{local}:{port}"
        if not wait_until_up(hub, f"{address}/hub/api/"):
            tail = log_path.read_text(errors="replace").splitlines()[-30:]
            raise HubError(
                "JupyterHub did not start. The end of its log "
                f"({log_path}):\n  " + "\n  ".join(tail)
            )
        print(banner(room, f"http://{ip}:{port}" if local == ip else address, logins, log_path))
        while not stopping and hub.poll() is None:
            time.sleep(0.5)
        if hub.poll() is not None and not stopping:
            print(f"JupyterHub exited ({hub.returncode}); see {log_path}", flush=True)
    finally:
        stop(room, hub, log=lambda text: print(text, flush=True))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else 1


def banner(room, address, logins, log_path):
    width = max(len(u) for u in room.users)
    lines = [
        "",
        f"The aekeras demo class runs at {address}/ (JupyterHub, PAM logins)",
        f"  instructor  {room.instructor:<{width}}  password {logins[room.instructor]}",
        *(f"  student     {s:<{width}}  password {logins[s]}" for s in room.students),
        "",
        f"Formgrader (the instructor, in its own tab): {address}/user/{room.instructor}/formgrader",
        f"Course directory of the instructor: {room.course()}",
        "  In the instructor's terminal there (JupyterLab, File > New > Terminal):",
        "    nbgrader generate_assignment a1_autoencoders && nbgrader release_assignment a1_autoencoders",
        "    nbgrader collect a1_autoencoders",
        "    (cd ~/aekeras && python3 tasks.py grade a1_autoencoders)",
        "    nbgrader release_feedback a1_autoencoders",
        "  Students: the Assignments tab of JupyterLab (Fetch, Submit, Fetch Feedback), or",
        "    nbgrader fetch_assignment / submit / fetch_feedback a1_autoencoders in a terminal.",
        f"Hub log: {log_path}. Logins are kept in {room.state / 'logins.json'} (root only).",
        STOP_LINE,
        "",
    ]
    return "\n".join(lines)
