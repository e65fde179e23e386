package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/probonus-go/probonus"
)

// groupsOptions is what groups runs with: it has no flags or arguments of its own.
type groupsOptions struct{}

// newGroupsCmd registers groups' flags (none) and returns what parses its arguments and runs it.
func newGroupsCmd(_ *flag.FlagSet, runF runFunc[groupsOptions]) runner {
	return func(ctx context.Context, s *session, _ []string) error {
		return runF(ctx, s, groupsOptions{})
	}
}

// runGroups lists the account groups and says which can take a sign-up.
func runGroups(ctx context.Context, s *session, _ groupsOptions) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	groups, err := c.AccountGroups.List(ctx)
	if err != nil {
		return err
	}
	if s.cfg.json {
		return printJSON(s.stdout, groups)
	}
	return printGroups(s, groups)
}

func printGroups(s *session, groups []probonus.AccountGroup) error {
	t := newTable("ID>", "NAME", "PARENT>", "TEMPLATE")
	var templates []string
	for _, g := range groups {
		mark := ""
		if g.HaveTemplate {
			mark = "yes"
			templates = append(templates, fmt.Sprint(g.ID))
		}
		t.add(id(g.ID), g.Name, id(g.ParentID), mark)
	}
	if err := t.write(s.stdout); err != nil {
		return err
	}
	switch len(templates) {
	case 0:
		_, err := fmt.Fprintln(s.stdout, "\nNo group has a template (\"Шаблон для API\"): signup cannot create guests until one has.")
		return err
	case 1:
		_, err := fmt.Fprintf(s.stdout, "\nsignup can create guests in group %s, the one with a template.\n", templates[0])
		return err
	}
	_, err := fmt.Fprintf(s.stdout, "\nsignup can create guests in the groups with a template: %s.\n", strings.Join(templates, ", "))
	return err
}
