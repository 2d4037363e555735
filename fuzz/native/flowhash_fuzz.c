/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the flow hash over a frame from the VF (the wire: anyone
 * can send it). The frame is laid in an mbuf as the PMD would, with nothing
 * readable past its end, so AddressSanitizer sees any read beyond it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dataplane.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf m;
	uint8_t *frame;

	if (size > UINT16_MAX)
		return 0;
	frame = malloc(size > 0 ? size : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data, size);
	memset(&m, 0, sizeof(m));
	m.buf_addr = frame;
	m.buf_len = (uint16_t)size;
	m.data_off = 0;
	m.data_len = (uint16_t)size;
	m.pkt_len = (uint32_t)size;
	m.nb_segs = 1;
	(void)flow_hash(&m);
	free(frame);
	return 0;
}
