#!/usr/bin/env sysbench
-- bench/cutover-oltp.lua: sysbench's own oltp_write_only for bench/cutover.sh
-- (not a benchmark of its own), with one change: a transaction that failed
-- with an ignored error (--mysql-ignore-errors=all) is retried after 1 ms
-- instead of at once, like tests/tools/appwriter (--retry-us 1000) and an
-- application with any back-off.  Without it, 4 threads retrying a write
-- that read_only refuses (1290) spin at full speed for as long as the old
-- master is frozen, and on 2 cores that starves the very processes whose
-- timing is measured.  Everything else (tables, statements, the re-prepare
-- after a lost connection) is /usr/share/sysbench/oltp_write_only.lua's.
require("oltp_write_only")

local ffi = require("ffi")
pcall(ffi.cdef, "int usleep(unsigned int usec);")

local restart = sysbench.hooks.before_restart_event
function sysbench.hooks.before_restart_event(errdesc)
   if restart then
      restart(errdesc)
   end
   ffi.C.usleep(1000)
end
