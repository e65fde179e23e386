package probonus_test

import (
	"fmt"

	"github.com/probonus-go/probonus"
)

// A bonus of the guest level's percentage of an order total, rounded to the kopeck half away from
// zero, as a receipt rounds: 5% of 1,234.50 is 61.725.
func ExampleAmount_Percent() {
	total := probonus.MustAmount("1234.50")
	level := probonus.Level{Name: "Серебро", BonusPercent: probonus.MustAmount("5")}
	bonus, err := total.Percent(level.BonusPercent, probonus.RoundHalfUp)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bonus)
	// A bonus never above the rate: drop the fraction of a kopeck.
	floor, _ := total.Percent(level.BonusPercent, probonus.RoundDown)
	fmt.Println(floor)
	// No mode, no result.
	_, err = total.Percent(level.BonusPercent, 0)
	fmt.Println(err)
	// Output:
	// 61.73
	// 61.72
	// probonus: Amount.Percent: invalid mode: no rounding mode RoundingMode(0): choose one, such as RoundHalfUp
}

// Double bonuses on a promotion day: the exact product, rounded once.
func ExampleAmount_Mul() {
	bonus := probonus.MustAmount("0.05")
	for _, mode := range []probonus.RoundingMode{probonus.RoundHalfUp, probonus.RoundHalfEven} {
		half, _ := bonus.Mul(probonus.MustAmount("0.5"), mode)
		fmt.Println(mode, half)
	}
	double, _ := probonus.MustAmount("199.90").Mul(probonus.MustAmount("1.5"), probonus.RoundHalfEven)
	fmt.Println(double)
	// Output:
	// RoundHalfUp 0.03
	// RoundHalfEven 0.02
	// 299.85
}

// Each mode on ties (0.125, -0.125; 0.135 to an odd kopeck) and off them, of either sign.
func ExampleRoundingMode() {
	modes := []probonus.RoundingMode{probonus.RoundHalfUp, probonus.RoundHalfEven, probonus.RoundDown,
		probonus.RoundUp, probonus.RoundFloor, probonus.RoundCeiling}
	for _, s := range []string{"0.125", "0.135", "0.121", "-0.125", "-0.129"} {
		fmt.Printf("%7s", s)
		for _, mode := range modes {
			r, _ := probonus.MustAmount(s).Round(mode)
			fmt.Printf(" %s=%s", mode, r)
		}
		fmt.Println()
	}
	// Output:
	//   0.125 RoundHalfUp=0.13 RoundHalfEven=0.12 RoundDown=0.12 RoundUp=0.13 RoundFloor=0.12 RoundCeiling=0.13
	//   0.135 RoundHalfUp=0.14 RoundHalfEven=0.14 RoundDown=0.13 RoundUp=0.14 RoundFloor=0.13 RoundCeiling=0.14
	//   0.121 RoundHalfUp=0.12 RoundHalfEven=0.12 RoundDown=0.12 RoundUp=0.13 RoundFloor=0.12 RoundCeiling=0.13
	//  -0.125 RoundHalfUp=-0.13 RoundHalfEven=-0.12 RoundDown=-0.12 RoundUp=-0.13 RoundFloor=-0.13 RoundCeiling=-0.12
	//  -0.129 RoundHalfUp=-0.13 RoundHalfEven=-0.13 RoundDown=-0.12 RoundUp=-0.13 RoundFloor=-0.13 RoundCeiling=-0.12
}
