#!/bin/sh
# pure-ftpd in the foreground: virtual users only (-l puredb), TLS required for everything
# (-Y 2), chroot everyone (-A), no anonymous (-E), passive ports 30000-30009 (-p), the public
# address for passive mode (-P).
exec pure-ftpd -l puredb:/etc/pure-ftpd/db/pureftpd.pdb -E -A -j -H -Y 2 \
    -2 /etc/ssl/private/pure-ftpd/pure-ftpd.pem -p 30000:30009 -P "${PUBLIC_HOST:-127.0.0.1}"
