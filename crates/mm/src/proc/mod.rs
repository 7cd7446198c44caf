//! /proc views of the memory manager, in Linux's exact formats.
