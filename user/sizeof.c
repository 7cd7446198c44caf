/* The notes' sizeof example: sizeof of a pointer is the pointer's size, not
 * the size of what it points to; sizeof of an array is the whole array. */
#include <stdio.h>
#include <stdlib.h>
#include "check.h"

int main(void)
{
    int *x = malloc(10 * sizeof(int));
    printf("%zu\n", sizeof(x));  /* the pointer: 8 on riscv64 (LP64) */
    printf("%zu\n", sizeof(*x)); /* one int: 4 */
    CHECK(x != NULL);
    CHECK_EQ(sizeof(x), 8);
    CHECK_EQ(sizeof(*x), 4);
    free(x);

    {
        int x[10];
        printf("%zu\n", sizeof(x)); /* the array: 10 * 4 = 40 */
        CHECK_EQ(sizeof(x), 40);
    }

    printf("sizeof char %zu short %zu int %zu long %zu long long %zu\n",
           sizeof(char), sizeof(short), sizeof(int), sizeof(long),
           sizeof(long long));
    printf("sizeof void* %zu size_t %zu float %zu double %zu long double %zu\n",
           sizeof(void *), sizeof(size_t), sizeof(float), sizeof(double),
           sizeof(long double));
    return check_exit("sizeof");
}
