package store

import "syscall"

const oDirect = syscall.O_DIRECT
