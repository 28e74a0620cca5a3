"""A live view: detections over Foxglove's WebSocket protocol, as they are made.

:class:`FoxgloveView` serves the topics :class:`BagResultWriter` records
(``/spacead/mask``, ``/overlay``, ``/reference``, ``/result``, ``/annotations``) with
``foxglove-sdk`` (the ``viz`` extra): the messages are the same ROS 2 messages in
CDR with their ``ros2msg`` schemas, so Foxglove draws them as it draws a recording.
It listens on 127.0.0.1 unless told otherwise: a detector's view is not for the
whole network.
"""

from __future__ import annotations

import threading
from typing import Any

from ._msgs import typestore
from ._writer import ResultSink, result_topics

DEFAULT_PORT = 8765  # Foxglove's default WebSocket port


class FoxgloveView(ResultSink):
    """Publishes each frame's detections to Foxglove clients; use it as a context manager.

    Parameters
    ----------
    host : str
        Address to listen on (default 127.0.0.1: this machine only).
    port : int
        TCP port; 0 picks a free one (see :attr:`port`).
    compressed : bool
        Overlay and reference as JPEG ``CompressedImage`` (lighter on a network).
    name : str
        The server name Foxglove shows.

    Examples
    --------
    ::

        with FoxgloveView(port=8765) as view:
            view.wait_for_viewer()
            for frame in BagSource("run.mcap", image_topic="/cam/image_raw", sun=(1, 0, 0)):
                result = live.detect_frame(frame.image, frame.spec())
                view.write(frame.header, frame.image, result.detection,
                           result.reference.image, result.summary())
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        compressed: bool = False,
        name: str = "spacead",
    ) -> None:
        import foxglove
        from foxglove.channel import Channel
        from foxglove.websocket import Capability

        self.host = host
        self.compressed = compressed
        self.frames = 0
        self._viewer = threading.Event()
        self._context = foxglove.Context()
        try:
            self._server = foxglove.start_server(
                name=name,
                host=host,
                port=port,
                context=self._context,
                capabilities=[Capability.Time],
                server_listener=_listener(self._viewer),
            )
        except Exception as exc:  # the SDK raises its own error for a port in use
            raise OSError(f"cannot serve the live view on {host}:{port}: {exc}") from None
        store = typestore()
        self._channels: dict[str, Any] = {}
        for key, (topic, kind) in result_topics(compressed).items():
            text, _ = store.generate_msgdef(kind, ros_version=2)
            schema = foxglove.Schema(name=kind, encoding="ros2msg", data=text.encode())
            self._channels[key] = Channel(
                topic, schema=schema, message_encoding="cdr", context=self._context
            )

    @property
    def port(self) -> int:
        """The TCP port the view listens on."""
        return int(self._server.port)

    @property
    def url(self) -> str:
        """The address to open in Foxglove (Open connection → Foxglove WebSocket)."""
        return f"ws://{self.host}:{self.port}"

    def wait_for_viewer(self, timeout: float | None = None) -> bool:
        """Block until a client subscribes to a topic; False if ``timeout`` passed first."""
        return self._viewer.wait(timeout)

    def _begin(self, stamp: int) -> None:
        self._server.broadcast_time(stamp)  # Foxglove's clock follows the images' stamps

    def _send(self, key: str, stamp: int, data: bytes) -> None:
        self._channels[key].log(data, log_time=stamp)

    def close(self) -> None:
        """Stop serving (clients see the connection close)."""
        self._server.stop()

    def __enter__(self) -> FoxgloveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _listener(subscribed: threading.Event) -> Any:
    """A server listener that sets ``subscribed`` on the first subscription."""
    from foxglove.websocket import ServerListener

    class Listener(ServerListener):
        def on_subscribe(self, client: Any, channel: Any) -> None:
            subscribed.set()

    return Listener()
