// Debian's libhiredis-dev (0.14.x) installs its headers under hiredis/.
#include <hiredis/hiredis.h>
#include <sys/eventfd.h>
#include <poll.h>
