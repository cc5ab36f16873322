"""common.py - the lab's user profiles and passwords, shared by every scenario and by secrets.json.

In: nothing.  Out: PROFILES for the mock config (status ok/disabled/expired), and the passwords the
clients type (lab passwords only; pcaps/secrets.json lists every one, so a test can prove that no
report ever contains them).
"""
PROFILES = {
    "LABUSR1": {"password": "Lab-Pw-Usr1", "status": "ok"},
    "LABOPS": {"password": "Lab-Pw-Ops7", "status": "ok"},
    "LABPGMR": {"password": "Lab-Pw-Pgmr", "status": "ok"},
    "LABSEC": {"password": "Lab-Pw-Sec42", "status": "ok"},
    "LABDIS": {"password": "Lab-Pw-Dis", "status": "disabled"},
    "LABEXP": {"password": "Lab-Pw-Exp", "status": "expired"},
    "QSECOFR": {"password": "Lab-Pw-Qsecofr", "status": "ok"},
}
WRONG = "Wrong-Lab-Pw9"   # typed on purpose for the wrong-password case
# the doors scenarios' passwords: FTP (vsftpd's anonymous login), the LDAP bind, HTTP Basic; doors2's
# Derby user (DRDA SECCHK, in clear on 446), the Java key and trust stores of its TLS server and client,
# and dovecot's POP3 user
DOORS_PW = {"ftp": "Lab-Ftp-Pw3", "ldap": "Lab-Ldap-Pw5", "http": "Lab-Http-Pw8", "drda": "Lab-Drda-Pw6",
            "keystore": "Lab-Keystore-Pw4", "pop3": "Lab-Pop-Pw2"}


def pw(user):
    return PROFILES[user]["password"]


def mock_config(**over):
    cfg = {"profiles": PROFILES}
    cfg.update(over)
    return cfg
