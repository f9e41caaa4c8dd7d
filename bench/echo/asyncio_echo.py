#!/usr/bin/python3
"""Python echo server peers: asyncio with a Protocol or with streams, on the asyncio
loop or on uvloop.

    asyncio_echo.py [--port PORT] [--api protocol|streams] [--loop asyncio|uvloop]

Serves 127.0.0.1:PORT (default 7000). Run it with the system Python (/usr/bin/python3):
that is the one with python3-uvloop installed.
"""
import argparse
import asyncio
import socket
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)


async def echo_stream(reader, writer):
    try:
        while True:
            data = await reader.read(16384)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(port, api):
    if api == "protocol":
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port, backlog=1024)
    else:
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=7000)
    ap.add_argument("--api", choices=["protocol", "streams"], default="protocol")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = ap.parse_args()
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("asyncio_echo: uvloop is not installed for %s (use /usr/bin/python3)"
                  % sys.executable, file=sys.stderr)
            sys.exit(2)
        uvloop.install()
    try:
        asyncio.run(serve(args.port, args.api))
    except OSError as e:
        print("asyncio_echo: cannot listen on 127.0.0.1:%d: %s" % (args.port, e),
              file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
