#include <archive.h>
#include <archive_entry.h>

/* The file-type macros are casts that Swift does not import: the values, typed. */
static const unsigned int clibarchive_ifmt = AE_IFMT;
static const unsigned int clibarchive_ifreg = AE_IFREG;
static const unsigned int clibarchive_ifdir = AE_IFDIR;
static const unsigned int clibarchive_iflnk = AE_IFLNK;
