/*
 * dissector.c - helpers shared by the dissectors: value-to-name lookup and
 * EBCDIC (CCSID 37) to ASCII for the names IBM i puts on the wire.
 */
#include "dissector.h"

const char *tok_name(const struct tok *t, uint32_t v)
{
	for (; t && t->s; t++)
		if (t->v == v)
			return t->s;
	return NULL;
}

/* CCSID 37 to ASCII for the printable range; 0 marks "no equivalent". */
static const char ebcdic37[256] = {
	[0x40] = ' ', [0x4B] = '.', [0x4C] = '<', [0x4D] = '(', [0x4E] = '+', [0x4F] = '|',
	[0x50] = '&', [0x5A] = '!', [0x5B] = '$', [0x5C] = '*', [0x5D] = ')', [0x5E] = ';',
	[0x60] = '-', [0x61] = '/', [0x6B] = ',', [0x6C] = '%', [0x6D] = '_', [0x6E] = '>',
	[0x6F] = '?', [0x79] = '`', [0x7A] = ':', [0x7B] = '#', [0x7C] = '@', [0x7D] = '\'',
	[0x7E] = '=', [0x7F] = '"',
	[0x81] = 'a', [0x82] = 'b', [0x83] = 'c', [0x84] = 'd', [0x85] = 'e', [0x86] = 'f',
	[0x87] = 'g', [0x88] = 'h', [0x89] = 'i',
	[0x91] = 'j', [0x92] = 'k', [0x93] = 'l', [0x94] = 'm', [0x95] = 'n', [0x96] = 'o',
	[0x97] = 'p', [0x98] = 'q', [0x99] = 'r',
	[0xA1] = '~', [0xA2] = 's', [0xA3] = 't', [0xA4] = 'u', [0xA5] = 'v', [0xA6] = 'w',
	[0xA7] = 'x', [0xA8] = 'y', [0xA9] = 'z', [0xBA] = '[', [0xBB] = ']',
	[0xC0] = '{', [0xC1] = 'A', [0xC2] = 'B', [0xC3] = 'C', [0xC4] = 'D', [0xC5] = 'E',
	[0xC6] = 'F', [0xC7] = 'G', [0xC8] = 'H', [0xC9] = 'I',
	[0xD0] = '}', [0xD1] = 'J', [0xD2] = 'K', [0xD3] = 'L', [0xD4] = 'M', [0xD5] = 'N',
	[0xD6] = 'O', [0xD7] = 'P', [0xD8] = 'Q', [0xD9] = 'R',
	[0xE0] = '\\', [0xE2] = 'S', [0xE3] = 'T', [0xE4] = 'U', [0xE5] = 'V', [0xE6] = 'W',
	[0xE7] = 'X', [0xE8] = 'Y', [0xE9] = 'Z',
	[0xF0] = '0', [0xF1] = '1', [0xF2] = '2', [0xF3] = '3', [0xF4] = '4', [0xF5] = '5',
	[0xF6] = '6', [0xF7] = '7', [0xF8] = '8', [0xF9] = '9',
};

bool ebcdic_to_ascii(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	bool ok = true;
	size_t o = 0;
	if (!dst || dstlen == 0)
		return false;
	for (size_t i = 0; i < n && o + 1 < dstlen; i++) {
		if (src[i] == 0)
			break;
		char ch = ebcdic37[src[i]];
		if (!ch) {
			ch = '?';
			ok = false;
		}
		dst[o++] = ch;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return ok;
}
