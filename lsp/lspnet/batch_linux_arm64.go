package lspnet

const sysRecvmmsg, sysSendmmsg = 243, 269
