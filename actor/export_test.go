package actor

// PendingRemote returns the messages for the remote system at addr that are queued or in a call
// whose answer has not come: 0 means every message sent there is acknowledged or counted lost.
// Tests wait for it before they stop a peer, so a batch acknowledged late is not counted lost.
func (s *ActorSystem) PendingRemote(addr string) int {
	if r, ok := s.remotes.Load(addr); ok {
		return r.(*remoteSender).pending()
	}
	return 0
}

// RemoteConnected reports whether the system's sender for addr holds a connection it believes
// alive: tests wait for it to notice a peer going away.
func (s *ActorSystem) RemoteConnected(addr string) bool {
	if r, ok := s.remotes.Load(addr); ok {
		return r.(*remoteSender).isConnected()
	}
	return false
}
