/* Print the arguments, one a line: ferrite passes everything after the
 * program's name to the program, even words that look like its options. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    return 0;
}
