"""legacy.py - capture legacy.pcapng: jt400 AS400 (no TLS) on the nonsecure host-server ports.

In: the lab (lab.Lab).  Out: the capture; three clients - c21 through the port mapper (449) to
signon, command, database, dtaq; c22 with setServicePortsToDefault() (no 449) to signon, file,
print, central; c23 through the mapper to command only - each doing one real operation per service.
"""
from common import pw, mock_config

NAME = "legacy"
DESCRIPTION = ("IBM Toolbox for Java (jt400 AS400, no TLS) on the nonsecure host-server ports 8470-8476, "
               "with (c21, c23) and without (c22) the port mapper on 449")


def run(lab, cap):
    lab.start_mock(mock_config())
    lab.start_capture(cap)
    lab.jt400("tr-c21", "c21-jt400", "--user", "LABUSR1", "--password", pw("LABUSR1"),
              "--services", "signon,command,database,dtaq", "--use")
    lab.jt400("tr-c22", "c22-jt400", "--user", "LABOPS", "--password", pw("LABOPS"),
              "--services", "signon,file,print,central", "--use", "--no-mapper")
    lab.jt400("tr-c23", "c23-jt400", "--user", "LABPGMR", "--password", pw("LABPGMR"),
              "--services", "command", "--use")
    lab.stop_captures()
    lab.stop_mock()
