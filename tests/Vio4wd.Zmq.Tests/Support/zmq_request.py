#!/usr/bin/python3
"""Sends one request as the original's tools do (zmq.REQ, LINGER 0) and prints the reply.

usage: zmq_request.py ENDPOINT [SERVER_PUBLIC_KEY [CLIENT_PUBLIC_KEY CLIENT_SECRET_KEY]] < frames
       (one frame per line, in hex; '-' is an empty frame)
Prints the reply as hex; exits 2 if no reply comes within 5 seconds.
"""
import sys
import zmq

context = zmq.Context()
socket = context.socket(zmq.REQ)
socket.setsockopt(zmq.LINGER, 0)
socket.setsockopt(zmq.RCVTIMEO, 5000)
if len(sys.argv) > 2:  # the server's CURVE public key: talk CURVE with the given key pair or a fresh one
    public, secret = (sys.argv[3].encode(), sys.argv[4].encode()) if len(sys.argv) > 4 else zmq.curve_keypair()
    socket.curve_publickey, socket.curve_secretkey, socket.curve_serverkey = public, secret, sys.argv[2].encode()
socket.connect(sys.argv[1])
frames = [b"" if line.strip() == "-" else bytes.fromhex(line.strip()) for line in sys.stdin if line.strip()]
socket.send_multipart(frames)
try:
    print(socket.recv().hex())
except zmq.Again:
    sys.exit(2)
