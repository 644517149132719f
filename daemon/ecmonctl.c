/* ecmonctl: talks to ecmond over its control socket. */
int main(void);
int
main(void)
{
    return 0;
}
