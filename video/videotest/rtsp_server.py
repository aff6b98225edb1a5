#!/usr/bin/python3
"""Loopback RTSP server for Sightline's video tests.

Serves an H.264 MP4 file at rtsp://127.0.0.1:PORT/test over RTP/TCP and
RTP/UDP with the GStreamer RTSP server. Each client gets its own pipeline
from the start of the file, played at its native rate.

With --stamp, prints "push <pts_ns> <unix_ns>" when each access unit leaves
for the payloader (after clock sync), so a test can measure server-to-reader
latency. Prints "ready" once listening.
"""
import argparse
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--stamp", action="store_true")
    a = ap.parse_args()
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # identity sync=true releases each buffer at its running time, so the
    # probe behind it sees the moment the frame is sent.
    factory.set_launch(
        "( filesrc location=%s ! qtdemux ! h264parse config-interval=-1 ! "
        "identity sync=true name=clock ! rtph264pay name=pay0 pt=96 config-interval=1 )" % a.file
    )
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)

    if a.stamp:
        def on_buffer(_pad, info):
            buf = info.get_buffer()
            sys.stdout.write("push %d %d\n" % (buf.pts, time.time_ns()))
            sys.stdout.flush()
            return Gst.PadProbeReturn.OK

        def on_configure(_factory, media):
            el = media.get_element().get_by_name("clock")
            el.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_buffer)

        factory.connect("media-configure", on_configure)

    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        sys.stderr.write("cannot listen on port %d\n" % a.port)
        sys.exit(1)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
