#!/bin/sh
# hello: a fresh copy of the unpacked source package
rm -rf /rb/w/hello && mkdir -p /rb/w && cp -a /rb/src/hello /rb/w/hello
