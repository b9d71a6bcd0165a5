package labrpc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Errors a call can meet at the server. Call reports them as a lost RPC (false) and the
// network records them as warnings, because each one is a bug in the caller or the service.
var (
	ErrUnknownService = errors.New("labrpc: unknown service")
	ErrUnknownMethod  = errors.New("labrpc: unknown method")
	ErrBadArgs        = errors.New("labrpc: arguments do not decode into the method's argument type")
)

// Server is a collection of services reachable under one server name on a Network. It counts
// the RPCs delivered to it.
type Server struct {
	mu       sync.Mutex
	services map[string]*Service
	count    int // RPCs delivered to a handler, or attempted on an unknown method
}

// MakeServer returns an empty server; add services with AddService and attach it to a network
// with Network.AddServer.
func MakeServer() *Server {
	return &Server{services: make(map[string]*Service)}
}

// AddService makes svc's methods callable as "Name.Method". A later service with the same name
// replaces the earlier one. A nil svc is ignored.
func (rs *Server) AddService(svc *Service) {
	if svc == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.services[svc.name] = svc
}

// GetCount returns the number of RPCs delivered to this server.
func (rs *Server) GetCount() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.count
}

// dispatch runs the handler named by svcMeth on the request waiting in req and returns a stream
// holding the reply.
func (rs *Server) dispatch(svcMeth string, req *stream) (*stream, int, error) {
	rs.mu.Lock()
	rs.count++
	dot := strings.LastIndex(svcMeth, ".")
	svc := rs.services[svcMeth[:max(dot, 0)]]
	rs.mu.Unlock()
	if dot < 0 || svc == nil {
		return nil, 0, fmt.Errorf("%w: %q", ErrUnknownService, svcMeth)
	}
	return svc.dispatch(svcMeth[dot+1:], req)
}

// Service is the set of RPC handlers of one receiver value, named after the receiver's type.
type Service struct {
	name    string
	rcvr    reflect.Value
	methods map[string]reflect.Method
}

// MakeService collects rcvr's exported methods of the form M(args *A, reply *R), with no
// results, as RPC handlers callable as "T.M" where T is rcvr's type name. Other methods are
// left out, so a type can have helpers beside its handlers.
func MakeService(rcvr any) *Service {
	svc := &Service{methods: make(map[string]reflect.Method)}
	if rcvr == nil {
		return svc
	}
	svc.rcvr = reflect.ValueOf(rcvr)
	svc.name = reflect.Indirect(svc.rcvr).Type().Name()
	t := svc.rcvr.Type()
	for i := range t.NumMethod() {
		m := t.Method(i)
		mt := m.Type
		if m.PkgPath != "" || mt.NumIn() != 3 || mt.NumOut() != 0 ||
			mt.In(1).Kind() != reflect.Pointer || mt.In(2).Kind() != reflect.Pointer {
			continue
		}
		svc.methods[m.Name] = m
	}
	return svc
}

// Name returns the service name that prefixes its methods in calls ("Raft" in "Raft.AppendEntries").
func (svc *Service) Name() string { return svc.name }

// dispatch decodes the arguments, runs the method and sends its reply.
func (svc *Service) dispatch(method string, req *stream) (*stream, int, error) {
	m, ok := svc.methods[method]
	if !ok {
		return nil, 0, fmt.Errorf("%w: %s.%s", ErrUnknownMethod, svc.name, method)
	}
	argp := reflect.New(m.Type.In(1).Elem())
	if err := req.receive(argp.Interface()); err != nil {
		return nil, 0, fmt.Errorf("%w: %s.%s: %v", ErrBadArgs, svc.name, method, err)
	}
	replyp := reflect.New(m.Type.In(2).Elem())
	m.Func.Call([]reflect.Value{svc.rcvr, argp, replyp})
	reply, size, err := send(replyp.Interface())
	if err != nil {
		return nil, 0, fmt.Errorf("labrpc: encoding the reply of %s.%s: %w", svc.name, method, err)
	}
	return reply, size, nil
}
