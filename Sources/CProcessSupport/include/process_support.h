/*
 * process_support.h — the one glibc call the Process provider needs that Swift's Glibc module does not import
 * (dladdr is a GNU extension).
 */
#ifndef MOLECULE_PROCESS_SUPPORT_H
#define MOLECULE_PROCESS_SUPPORT_H

#include <stddef.h>

/**
 * Writes the path of the shared object (or executable) that contains `address` into `buffer` (NUL-terminated,
 * at most `size` bytes). Returns 0 on success, -1 when no loaded image contains it or the path does not fit.
 * Thread-safe; reads the dynamic linker's own list of images.
 */
int molecule_image_path(const void *address, char *buffer, size_t size);

#endif
