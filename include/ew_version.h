/* The one place the version lives. The Debian package (debian/changelog,
 * checked by `make version-check`), ?json's "version", the start-up log line
 * and the Server header token mod_errwatch/x.y.z all read it. */
#ifndef EW_VERSION_H
#define EW_VERSION_H

#define EW_VERSION "0.1.0"

#endif
