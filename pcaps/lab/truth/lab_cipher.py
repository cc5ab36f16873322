"""lab_cipher.py - OpenSSL cipher name -> IANA name, from build/cipher-names.tsv.

In: the table build.sh made with `openssl ciphers -stdname`.  Out: a dict; IANA names (TLS 1.3
names, JSSE names) map to themselves.
"""
import os

TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "cipher-names.tsv")


def cipher_map():
    m = {}
    for line in open(TSV):
        ossl, iana = line.rstrip("\n").split("\t")
        m[ossl] = iana
        m[iana] = iana
    return m
