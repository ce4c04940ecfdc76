#!/usr/bin/env python3
# Asks X windows to close as a window manager's close button does: a WM_DELETE_WINDOW client
# message (the tests run under Xvfb with no window manager).
# Usage: wm-close.py [--expect-iconify] WINDOW_ID...
# With --expect-iconify it then waits (10 s at most) for the app to ask the window manager to
# minimize one of them (ICCCM's WM_CHANGE_STATE IconicState message to the root window, which
# GTK sends for gtk_window_iconify), and fails if it never does.
import ctypes
import select
import sys
import time

x11 = ctypes.CDLL("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XInternAtom.restype = ctypes.c_ulong
x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(XEvent)]
x11.XFlush.argtypes = [ctypes.c_void_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
x11.XPending.argtypes = [ctypes.c_void_p]
x11.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
x11.XConnectionNumber.argtypes = [ctypes.c_void_p]

args = sys.argv[1:]
expect_iconify = "--expect-iconify" in args
windows = [int(a) for a in args if a != "--expect-iconify"]

display = x11.XOpenDisplay(None)
if not display:
    sys.exit("no X display")
protocols = x11.XInternAtom(display, b"WM_PROTOCOLS", 0)
delete = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
change_state = x11.XInternAtom(display, b"WM_CHANGE_STATE", 0)
SUBSTRUCTURE_NOTIFY = 1 << 19
if expect_iconify:
    # Messages to the root window for the window manager reach whoever listens for this mask.
    x11.XSelectInput(display, x11.XDefaultRootWindow(display), SUBSTRUCTURE_NOTIFY)
for window in windows:
    ev = XEvent()
    ev.xclient.type = 33  # ClientMessage
    ev.xclient.window = int(window)
    ev.xclient.message_type = protocols
    ev.xclient.format = 32
    ev.xclient.data[0] = delete
    ev.xclient.data[1] = 0  # CurrentTime
    x11.XSendEvent(display, window, 0, 0, ctypes.byref(ev))
x11.XFlush(display)
if expect_iconify:
    ICONIC = 3
    deadline = time.monotonic() + 10
    fd = x11.XConnectionNumber(display)
    while time.monotonic() < deadline:
        while x11.XPending(display):
            ev = XEvent()
            x11.XNextEvent(display, ctypes.byref(ev))
            c = ev.xclient
            if c.type == 33 and c.message_type == change_state and c.data[0] == ICONIC and c.window in windows:
                print("iconify asked")
                sys.exit(0)
        select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
    sys.exit("the app never asked to minimize its window")
