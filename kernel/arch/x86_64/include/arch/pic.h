/* Legacy 8259 interrupt controllers. */
#ifndef ARCH_PIC_H
#define ARCH_PIC_H

void pic_disable(void); /* remap to 0x20..0x2f and mask all lines */

#endif
