#!/bin/sh
# build.sh - everything the lab needs that is made at lab time, into pcaps/lab/build/ (git-ignored).
#
# In: the npm registry (node-jt400 carries IBM's jt400.jar), javac, openssl, keytool.
# Out: build/jt400.jar, build/classes/ (LabClient + LabSSLFactory), build/certs/ (certs.sh),
# build/cipher-names.tsv (OpenSSL cipher name -> IANA name, from `openssl ciphers -stdname`).
# Neither the jar nor any private key ever goes into git.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
b=$here/build
mkdir -p "$b/classes"

if [ ! -s "$b/jt400.jar" ]; then
	t=$(mktemp -d)
	(cd "$t" && timeout 300 npm pack --silent node-jt400 >/dev/null && tar xzf node-jt400-*.tgz package/java/lib/jt400.jar)
	cp "$t/package/java/lib/jt400.jar" "$b/jt400.jar"
	rm -rf "$t"
fi
if [ ! -f "$b/classes/LabClient.class" ] || [ "$here/java/LabClient.java" -nt "$b/classes/LabClient.class" ] ||
   [ "$here/java/LabSSLFactory.java" -nt "$b/classes/LabSSLFactory.class" ]; then
	javac -nowarn -d "$b/classes" -cp "$b/jt400.jar" "$here/java/LabClient.java" "$here/java/LabSSLFactory.java" 2>&1 |
		grep -v '^Note:' || true
fi
sh "$here/certs.sh" "$b/certs"
openssl ciphers -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>/dev/null |
	awk '{print $3 "\t" $1}' > "$b/cipher-names.tsv"
