"""A bounded check that a download host answers, so that loaders fail fast offline."""

import socket
import threading
import urllib.parse
import urllib.request

# Seconds to wait for a TCP connection to a download host before calling it unreachable.
PROBE_TIMEOUT = 3.0


def host_reachable(url, timeout=PROBE_TIMEOUT):
    """Whether a TCP connection to the host of `url` (or its proxy) opens within `timeout`.

    Loaders call it before downloading, so that neither tensorflow-datasets
    nor `keras.utils.get_file` is left retrying an unreachable host.
    """
    result = []

    def connect():
        try:
            parts = urllib.parse.urlsplit(url)
            host = parts.hostname
            port = parts.port or (443 if parts.scheme == "https" else 80)
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(host):
                proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
                host, port = proxy_parts.hostname, proxy_parts.port or 80
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except (OSError, ValueError):
            pass

    # A thread bounds the whole probe, name resolution included, which the
    # socket timeout alone does not.
    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result)
