#!/bin/sh
# certs.sh - make the lab PKI with the openssl CLI.  Usage: sh certs.sh OUTDIR
#
# Out (all in OUTDIR, never committed): root CA (RSA 4096), issuing intermediate (RSA 2048),
# a second "policy" intermediate (RSA 4096) used only for the long chain, and server certs for
# the mock IBM i, each as NAME.key + NAME.chain.pem (leaf first, then intermediates):
#   rsa2048   RSA 2048 leaf <- issuing CA            (most ports)
#   rsa4096   RSA 4096 leaf <- issuing CA
#   ecdsa     ECDSA P-256 leaf <- issuing CA
#   longchain RSA 4096 leaf <- policy CA <- issuing CA <- root, root included: ~7 KB, many segments
#   selfsigned RSA 2048, self-signed
#   expired   RSA 2048 leaf <- issuing CA, valid 2020-01-01..2021-01-01
# plus ca.pem (the root, for clients) and trust.p12 (the root, for Java).
set -eu
out=$1
mkdir -p "$out"
cd "$out"
[ -f done ] && exit 0

san="subjectAltName=DNS:ibmi.lab.example,DNS:localhost,IP:192.0.2.10,IP:2001:db8:0:0:0:0:0:10,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1"
cat > ca.cnf <<'EOF'
[ ca ]
default_ca = lab
[ lab ]
dir = .
database = index.txt
serial = serial
new_certs_dir = newcerts
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
countryName = optional
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# sign CSR ISSUER EXT OUT [startdate enddate]
sign() {
	[ -f index.txt ] || : > index.txt
	[ -f serial ] || echo 1000 > serial
	mkdir -p newcerts
	if [ $# -ge 6 ]; then dates="-startdate $5 -enddate $6"; else dates="-days 3650"; fi
	# shellcheck disable=SC2086
	openssl ca -batch -config ca.cnf -notext -cert "$2.pem" -keyfile "$2.key" \
		-extensions "$3" $dates -in "$1" -out "$4" 2>/dev/null
}
rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1.key" 2>/dev/null; }
csr() { openssl req -new -key "$1.key" -subj "$2" -addext "$san" -out "$1.csr"; }

O="/O=Example Lab Manufacturing/OU=IT Security"
rsa root 4096
openssl req -new -x509 -days 7300 -key root.key -subj "$O/CN=Example Lab Root CA" \
	-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out root.pem
cp root.pem ca.pem

rsa issuing 2048
openssl req -new -key issuing.key -subj "$O/CN=Example Lab Issuing CA 1" -out issuing.csr
sign issuing.csr root v3_ca issuing.pem

rsa policy 4096
openssl req -new -key policy.key \
	-subj "$O/OU=Server Authentication Policy Division/CN=Example Lab Policy CA for IBM i Host Servers" \
	-out policy.csr
sign policy.csr issuing v3_ca policy.pem

leaf() {  # name issuer keybits|ec chain-extra...
	n=$1; iss=$2; kind=$3; shift 3
	if [ "$kind" = ec ]; then
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$n.key" 2>/dev/null
	else rsa "$n" "$kind"; fi
	csr "$n" "$O/CN=ibmi.lab.example"
	sign "$n.csr" "$iss" v3_leaf "$n.pem" "$@"
}
leaf rsa2048 issuing 2048
leaf rsa4096 issuing 4096
leaf ecdsa issuing ec
leaf expired issuing 2048 20200101000000Z 20210101000000Z
rsa longchain 4096
openssl req -new -key longchain.key -addext "$san" \
	-subj "$O/OU=IBM i Host Servers and Telnet/OU=Long Chain Test Certificate/CN=ibmi.lab.example" \
	-out longchain.csr
sign longchain.csr policy v3_leaf longchain.pem
rsa selfsigned 2048
openssl req -new -x509 -days 3650 -key selfsigned.key -subj "/CN=ibmi.lab.example" -addext "$san" \
	-out selfsigned.pem

for n in rsa2048 rsa4096 ecdsa expired; do cat "$n.pem" issuing.pem > "$n.chain.pem"; done
cat longchain.pem policy.pem issuing.pem root.pem > longchain.chain.pem
cp selfsigned.pem selfsigned.chain.pem
rm -f trust.p12
keytool -importcert -noprompt -alias labroot -file root.pem -keystore trust.p12 \
	-storetype PKCS12 -storepass labtrust >/dev/null 2>&1
touch done
