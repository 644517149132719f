/* fork and execve for the alert hook and the graph renderer. */
#include "daemon/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

extern char **environ;

pid_t
spawn_child(char *const argv[], char *const envp[], int out_fd, int err_fd)
{
    long maxfd = sysconf(_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > 65536)
        maxfd = 65536;
    if (envp == NULL)
        envp = environ;

    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* its own group: a timeout kills what it starts */
        /* The daemon's handlers only set its flags: a SIGTERM before
         * execve must end the child, not be swallowed. */
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_RDONLY);
        if (null > 0) {
            dup2(null, 0);
            close(null);
        }
        if (out_fd >= 0 && dup2(out_fd, 1) == -1)
            _exit(127);
        if (err_fd >= 0 && dup2(err_fd, 2) == -1)
            _exit(127);
        /* Sockets, the ledger, RRD files; close_range needs Linux 5.9. */
        if (close_range(3, ~0U, 0) == -1)
            for (int fd = 3; fd < (int)maxfd; fd++)
                close(fd);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid); /* also here: no race with a kill after fork */
    return pid;
}
