package oncall

// Stubs replaced by the implementation (helper-owned files).

import (
	"context"
	"time"

	"github.com/klaxon-oss/klaxon"
	"github.com/klaxon-oss/klaxon/internal/config"
)

func (s *Schedule) Shifts(from, to time.Time, overrides []klaxon.Override) []Shift { panic("todo") }
func (s *Schedule) At(t time.Time, overrides []klaxon.Override) (Shift, bool)     { panic("todo") }
func (d Deadline) From(t time.Time, bh BusinessHours) (time.Time, bool)         { panic("todo") }
func Compile(cfg *config.Config, levels []string) (*Directory, error)          { panic("todo") }

type Service struct{}
type Options struct {
	Now    func() time.Time
	Secret []byte
}
type OnCall struct {
	Schedule string `json:"schedule"`
	Now      *Shift `json:"now,omitempty"`
	Next     *Shift `json:"next,omitempty"`
}

func NewService(store klaxon.Store, dir *Directory, opts Options) *Service { panic("todo") }
func (s *Service) Directory() *Directory                                { panic("todo") }
func (s *Service) Swap(dir *Directory)                                  {}
func (s *Service) OnCall(ctx context.Context, schedule string, at time.Time) ([]OnCall, error) {
	panic("todo")
}
func (s *Service) Shifts(ctx context.Context, schedule string, from, to time.Time) ([]Shift, error) {
	panic("todo")
}
func (s *Service) UserShifts(ctx context.Context, user string, from, to time.Time) ([]Shift, error) {
	panic("todo")
}
func (s *Service) AddOverride(ctx context.Context, o klaxon.Override) (*klaxon.Override, error) {
	panic("todo")
}
func (s *Service) RemoveOverride(ctx context.Context, id int64, actor string) (*klaxon.Override, error) {
	panic("todo")
}
func (s *Service) Overrides(ctx context.Context, schedule string, from, to time.Time) ([]klaxon.Override, error) {
	panic("todo")
}
func (s *Service) UserByIdentity(id string) (klaxon.User, bool) { panic("todo") }
func (s *Service) FeedToken(kind, name string) string         { panic("todo") }
func (s *Service) CheckFeedToken(kind, name, token string) bool { panic("todo") }
