#!/bin/sh
# Exits 0 when this process may mount file systems (make test-image mounts /proc, /sys and /dev into the image's
# root, as Docker does): a sandbox may run as root without that right.
dir=$(mktemp -d) || exit 1
if mount -t tmpfs none "$dir" 2>/dev/null; then
    umount "$dir"
    rmdir "$dir"
    exit 0
fi
rmdir "$dir"
exit 1
