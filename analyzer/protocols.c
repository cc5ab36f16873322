/*
 * protocols.c - the registration of every dissector: one line each.  A new
 * protocol adds its line here, its dissector file, its catalogue entries and
 * its tests; nothing else names it.
 */
#include "protocols.h"

#include "drda.h"
#include "hostserver.h"
#include "portmapper.h"
#include "telnet5250.h"
#include "tls.h"

const struct protocol *const protocols[] = {
	&protocol_tls,
	&protocol_hostserver,
	&protocol_portmapper,
	&protocol_telnet5250,
	&protocol_drda,
	NULL,
};
