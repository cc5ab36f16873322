/*
 * testutil.h - what every cmocka unit test includes.
 */
#ifndef TLSREADY_TESTUTIL_H
#define TLSREADY_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#endif
