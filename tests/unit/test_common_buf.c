/*
 * test_common_buf.c: the bounded read and write cursors, and taking back
 * a record that did not fit (wr_rewind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_write_read(void **state)
{
	uint8_t b[16];
	struct wr w;
	struct rd r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	wr_init(&w, b, sizeof(b));
	assert_int_equal(wr_u8(&w, 0xab), 0);
	assert_int_equal(wr_u16(&w, 0x1234), 0);
	assert_int_equal(wr_u32(&w, 0xdeadbeef), 0);
	assert_int_equal(wr_u64(&w, 0x0102030405060708ULL), 0);
	assert_int_equal(w.off, 15);
	assert_int_equal(w.len, 1);
	assert_int_equal(get_u32(b + 3), 0xdeadbeef);
	assert_int_equal(wr_u16(&w, 1), -1);
	assert_int_equal(w.err, 1);

	rd_init(&r, b, 15);
	assert_int_equal(rd_u8(&r, &u8), 0);
	assert_int_equal(rd_u16(&r, &u16), 0);
	assert_int_equal(rd_u32(&r, &u32), 0);
	assert_int_equal(rd_u64(&r, &u64), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(u32, 0xdeadbeef);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(rd_u8(&r, &u8), -1);
}

static void
test_rewind(void **state)
{
	uint8_t b[8];
	struct wr w;
	size_t mark;

	wr_init(&w, b, sizeof(b));
	assert_int_equal(wr_u32(&w, 0x11223344), 0);
	mark = w.off;
	/* A record that does not fit: partly written, then the error. */
	assert_int_equal(wr_u16(&w, 0x5566), 0);
	assert_int_equal(wr_u32(&w, 0x778899aa), -1);
	assert_int_equal(w.err, 1);
	wr_rewind(&w, mark);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, 4);
	/* The space is back: length and offset agree again. */
	assert_int_equal(w.len, 4);
	assert_int_equal(wr_u32(&w, 0xcafef00d), 0);
	assert_int_equal(w.off, 8);
	assert_int_equal(w.len, 0);
	assert_int_equal(get_u32(b), 0x11223344);
	assert_int_equal(get_u32(b + 4), 0xcafef00d);
	/* Rewinding to the start empties the buffer. */
	wr_rewind(&w, 0);
	assert_int_equal(w.off, 0);
	assert_int_equal(w.len, sizeof(b));
	/* A mark past the cursor changes nothing. */
	wr_rewind(&w, 5);
	assert_int_equal(w.off, 0);
	assert_int_equal(w.len, sizeof(b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_rewind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
