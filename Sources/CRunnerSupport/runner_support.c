#define _GNU_SOURCE
#include "runner_support.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int molecule_runner_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

void molecule_runner_close_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0u, 0u) == 0) return;
#endif
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) {
        for (int fd = first; fd < 65536; fd++) close(fd);
        return;
    }
    int own = dirfd(directory);
    int descriptors[4096];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL && count < 4096) {
        int fd = atoi(entry->d_name);
        if (fd >= first && fd != own) descriptors[count++] = fd;
    }
    closedir(directory);
    for (int i = 0; i < count; i++) close(descriptors[i]);
}
