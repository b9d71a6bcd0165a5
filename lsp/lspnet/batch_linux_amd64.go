package lspnet

const sysRecvmmsg, sysSendmmsg = 299, 307
