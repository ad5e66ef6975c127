"""A TLS-terminating proxy on loopback for the TLS tests (see tls-proxy.ts, which starts it).

Python's ssl module, unlike Node's TLS server, verifies the client's certificate inside the handshake, so a refused
certificate gets the TLS alert a real TLS frontend sends (certificate required, unknown CA, certificate expired).

Usage: tls-proxy.py CERT KEY CA (required|none) TARGET_HOST TARGET_PORT
Prints "listening <port>" once, then "accepted" for every connection whose handshake completed.
"""

import socket
import ssl
import sys
import threading


def pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(context: ssl.SSLContext, raw: socket.socket, target: tuple[str, int]) -> None:
    # A blocking handshake on the socket itself: OpenSSL writes its alert to the client before this raises.
    try:
        client = context.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        return
    print("accepted", flush=True)
    try:
        upstream = socket.create_connection(target)
    except OSError:
        client.close()
        return
    forward = threading.Thread(target=pipe, args=(client, upstream), daemon=True)
    forward.start()
    pipe(upstream, client)
    forward.join()
    client.close()
    upstream.close()


def main() -> None:
    cert, key, ca, mode, host, port = sys.argv[1:7]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_REQUIRED if mode == "required" else ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    listener = socket.create_server(("127.0.0.1", 0))
    print("listening", listener.getsockname()[1], flush=True)
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve, args=(context, raw, (host, int(port))), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
