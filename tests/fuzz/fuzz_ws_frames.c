/*
 * Fuzz target: WebSocket message reassembly and its cap (agent/cdp_ws.c
 * hands every frame lws gives it to cdp_msgbuf_frame).  The input is a
 * limit, then frames: one header byte (bit 0: final, the rest: length)
 * and that many payload bytes.  A plain model follows along: every message
 * within the limit comes out whole, byte for byte, NUL-terminated; every
 * message over it is reported dropped (and only those); the message after
 * a dropped one is intact; nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cdp_msgbuf b;
	size_t limit, pos = 2, mlen = 0;
	uint8_t *model = malloc(size + 1);	/* the message so far, unbounded */

	if (size < 2) {
		free(model);
		return 0;
	}
	limit = ((size_t)data[0] | (size_t)data[1] << 8) % 1024;
	cdp_msgbuf_init(&b, limit);
	while (pos < size) {
		int final = data[pos] & 1, rc;
		size_t n = data[pos] >> 1, got = 0;
		char *msg = NULL;

		pos++;
		if (n > size - pos)
			n = size - pos;
		memcpy(model + mlen, data + pos, n);
		mlen += n;
		rc = cdp_msgbuf_frame(&b, data + pos, n, final, &msg, &got);
		pos += n;
		if (!final) {
			if (rc != 0 || msg)
				abort();
			/* the cap holds while a message is still arriving */
			if (b.len > limit || (b.overflow && b.data))
				abort();
			continue;
		}
		if (mlen <= limit) {
			if (rc != 1 || !msg || got != mlen || memcmp(msg, model, mlen) ||
			    msg[mlen] != '\0')
				abort();
		} else if (rc != -1 || msg) {
			abort();
		}
		free(msg);
		mlen = 0;
		/* the buffer is ready for the next message */
		if (b.len || b.overflow || b.data)
			abort();
	}
	cdp_msgbuf_release(&b);
	free(model);
	return 0;
}
