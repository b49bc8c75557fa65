package broker

import "time"

// PinHalfRoute makes p's next half messages to topic go to addr as queue 0
// of broker name: a route that still names a dead master, or a proxy.
func (p *TxProducer) PinHalfRoute(topic, name, addr string) {
	p.half.mu.Lock()
	defer p.half.mu.Unlock()
	if p.half.routes == nil {
		p.half.routes = map[string]halfRoute{}
	}
	p.half.routes[topic] = halfRoute{queues: []halfQueue{{broker: name, addr: addr, id: 0}}, at: time.Now()}
}
