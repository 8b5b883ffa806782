/* rdtscp: the counter must increase, and its TSC_AUX (the CPU number, as Linux sets it) must match
 * the CPU getcpu() reports — an emulated rdtscp that returns a made-up aux is caught. Tries until
 * two rdtscp around one getcpu agree on the CPU (a native thread may migrate in between). */
#include "tlib.h"

int main(void)
{
    for (int i = 0; i < 1000; i++) {
        u32 aux1, aux2, cpu = 0, node = 0;
        u64 a = rdtscp(&aux1);
        sys3(SYS_getcpu, &cpu, &node, 0);
        u64 b = rdtscp(&aux2);
        if (aux1 != aux2) continue;
        if (b <= a) detected("rdtscp did not advance");
        if ((aux1 & 0xfff) != cpu) detected("TSC_AUX is not the CPU number");
        if ((aux1 >> 12) != node) detected("TSC_AUX is not the node number");
        clean();
    }
    detected("no stable rdtscp sample");
    return 0;
}
