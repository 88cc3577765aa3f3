#!/bin/sh
# pv: a fresh copy of the unpacked source package
rm -rf /rb/w/pv && mkdir -p /rb/w && cp -a /rb/src/pv /rb/w/pv
